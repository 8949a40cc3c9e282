"""Every page type renders, in Chinese by default and in English one click away."""

import pytest

from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


def url_of(page, language="zh-hans"):
    """A page's URL in one language: Chinese has no prefix, English /en/."""
    with translation.override(language):
        return page.url


PAGE_KEYS = [
    "home",
    "standard",
    "news_index",
    "news",
    "notice_index",
    "notice",
    "policy_index",
    "policy",
]


@pytest.mark.parametrize("key", PAGE_KEYS)
def test_each_page_type_renders_in_chinese_by_default(client, site_pages, key):
    page = site_pages[key]
    response = client.get(url_of(page))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-Hans">' in html
    assert page.title in html
    assert "跳到主要内容" in html  # the skip link, translated


@pytest.mark.parametrize("key", PAGE_KEYS)
def test_each_page_type_renders_in_english_under_en(client, site_pages, key):
    page = site_pages[key]
    response = client.get(url_of(page, "en"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Skip to main content" in html


def test_language_switcher_keeps_the_current_page(client, site_pages):
    chinese, english = url_of(site_pages["news"]), url_of(site_pages["news"], "en")
    assert english == f"/en{chinese}"
    html = client.get(chinese).content.decode()
    assert f'name="next" value="{english}"' in html
    response = client.post(reverse("set_language"), {"language": "en", "next": english})
    assert response["Location"] == english
    html = client.get(english).content.decode()
    assert f'name="next" value="{chinese}"' in html
    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": chinese}
    )
    assert response["Location"] == chinese
    assert '<html lang="zh-Hans">' in client.get(response["Location"]).content.decode()


def test_unknown_language_code_is_refused_without_an_error(client, site_pages):
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert client.get("/").content.decode().count('lang="zh-Hans"') >= 1
    assert client.get("/xx/").status_code == 404


def test_navigation_comes_from_the_page_tree(client, site_pages):
    html = client.get("/").content.decode()
    for key in ("standard", "news_index", "notice_index", "policy_index"):
        assert f'href="{url_of(site_pages[key])}"' in html
    site_pages["standard"].show_in_menus = False
    site_pages["standard"].save()
    assert (
        f'href="{url_of(site_pages["standard"])}"'
        not in client.get("/").content.decode()
    )


def test_dates_use_chinese_format(client, site_pages):
    news = site_pages["news"]
    html = client.get(url_of(news)).content.decode()
    assert f"{news.date.year}年{news.date.month}月{news.date.day}日" in html


def test_site_settings_show_in_the_footer(client, site_pages):
    from wagtail.models import Site

    from portal.models import SiteSettings

    settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    settings.organisation = "某市知识产权局"
    settings.organisation_en = "Some City IP Office"
    settings.phone = "023-12345678"
    settings.save()
    assert "某市知识产权局" in client.get("/").content.decode()
    english = client.get("/en/").content.decode()
    assert "Some City IP Office" in english and "023-12345678" in english


def test_malformed_page_number_shows_the_first_page(client, site_pages):
    response = client.get(url_of(site_pages["news_index"]), {"page": "abc"})
    assert response.status_code == 200
    assert site_pages["news"].title in response.content.decode()


def test_unknown_page_is_a_translated_404(client, home):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_chinese_content_is_marked_as_chinese_on_english_pages(client, site_pages):
    english = client.get(url_of(site_pages["news"], "en")).content.decode()
    assert '<article class="article" lang="zh-Hans">' in english
    chinese = client.get(url_of(site_pages["news"])).content.decode()
    assert '<article class="article">' in chinese
