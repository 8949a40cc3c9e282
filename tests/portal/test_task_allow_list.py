"""The worker runs only the django-tasks the code lists, whatever a queue
message names; `check --deploy` warns about a broker or cache without a
password (portal/tasks_backend.py, portal/checks.py)."""

import logging
import sys
from importlib import import_module

import pytest
import wagtail_factories
from django_tasks.base import Task
from django_tasks.exceptions import InvalidTaskError

from django.apps import apps
from django.core import checks
from django.core.files.storage import default_storage

from portal import checks as portal_checks
from portal.tasks import run_django_task
from tests.portal import task_targets


@pytest.fixture(autouse=True)
def _no_calls():  # type: ignore[no-untyped-def]
    task_targets.CALLS.clear()
    yield
    task_targets.CALLS.clear()


# --- the runner --------------------------------------------------------------------


def test_a_message_naming_os_system_runs_nothing(tmp_path, caplog):
    marker = tmp_path / "owned"
    with caplog.at_level(logging.ERROR, logger="portal.tasks_backend"):
        run_django_task("os.system", [f"touch {marker}"], {})
    assert not marker.exists()
    assert "Refused" in caplog.text and "os.system" in caplog.text


@pytest.mark.parametrize(
    "path",
    [
        "tests.portal.task_targets.record_call",  # a plain function
        "tests.portal.task_targets.recorded_task",  # a Task, but not listed
        "wagtail.tasks.import_string",  # inside Wagtail, but not a task
    ],
)
def test_a_path_outside_the_list_is_not_called(path, caplog):
    with caplog.at_level(logging.ERROR, logger="portal.tasks_backend"):
        run_django_task(path, ["os.system", "id"], {})
    assert task_targets.CALLS == []
    assert "Refused" in caplog.text


def test_an_unlisted_module_is_not_even_imported():
    sys.modules.pop("tests.portal.task_import_marker", None)
    run_django_task("tests.portal.task_import_marker.IMPORTED", [], {})
    assert "tests.portal.task_import_marker" not in sys.modules


def test_a_listed_task_cannot_be_pointed_at_another_storage_class(tmp_path):
    marker = tmp_path / "owned"
    # delete_file_from_storage_task imports the class its message names.
    forged = ["os.system", [f"touch {marker}"], {}]
    run_django_task("wagtail.tasks.delete_file_from_storage_task", [forged, "x"], {})
    assert not marker.exists()


@pytest.mark.django_db
def test_a_wagtail_task_still_runs_through_the_backend(
    django_capture_on_commit_callbacks,
):
    # Deleting an image enqueues delete_file_from_storage_task on commit;
    # the backend queues run_django_task, which runs it (eagerly in tests).
    image = wagtail_factories.ImageFactory()
    name = image.file.name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        image.delete()
    assert not default_storage.exists(name)


def test_enqueueing_an_unlisted_task_fails_in_the_caller():
    with pytest.raises(InvalidTaskError):
        task_targets.recorded_task.enqueue()
    assert task_targets.CALLS == []


def test_the_list_is_every_task_the_installed_code_defines(settings):
    """A task that an upgrade of Wagtail (or of its search, modelsearch) adds
    fails here, not silently in the worker; so does a listed path that is no
    longer a Task."""
    for config in apps.get_app_configs():  # each app's tasks, even if unused yet
        try:
            import_module(f"{config.name}.tasks")
        except ImportError:
            continue
    defined = {
        value.module_path
        for name, module in list(sys.modules.items())
        if module is not None and not name.startswith("tests.")
        for value in list(vars(module).values())
        if isinstance(value, Task)
    }
    assert defined == set(settings.PORTAL_DJANGO_TASKS)


# --- check --deploy ----------------------------------------------------------------


def deploy_warnings(*ids: str) -> list[str]:
    """The portal's warnings of `check --deploy` among `ids` (the test run's
    own REDIS_URL may add a warning about the cache)."""
    return [
        message.id
        for message in checks.run_checks(include_deployment_checks=True)
        if message.id in ids
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/0", ["portal.W001"]),
        ("redis://:secret@127.0.0.1:6379/0", []),
        ("rediss://portal@redis.internal:6380/1", ["portal.W001"]),
        ("amqp://guest:guest@127.0.0.1:5672//", ["portal.W001"]),
        ("amqp://portal:s3cret@127.0.0.1:5672//", []),
        ("redis://:a@r1:6379/1;redis://r2:6379/1", ["portal.W001"]),
    ],
)
def test_check_deploy_warns_about_a_broker_without_a_password(settings, url, expected):
    settings.CELERY_BROKER_URL = url
    assert deploy_warnings("portal.W001") == expected


def test_the_warning_does_not_print_the_password(settings):
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
    (warning,) = portal_checks.check_broker_credentials(None)
    assert "guest" not in warning.msg


def test_only_check_deploy_warns(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert not [m for m in checks.run_checks() if m.id == "portal.W001"]


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("redis://127.0.0.1:6379/0", ["portal.W002"]),
        ("redis://:secret@127.0.0.1:6379/0", []),
        (["redis://:s@r1:6379/0", "redis://r2:6379/0"], ["portal.W002"]),
    ],
)
def test_check_deploy_warns_about_a_redis_cache_without_a_password(
    settings, location, expected
):
    settings.CELERY_BROKER_URL = "redis://:secret@127.0.0.1:6379/1"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
        }
    }
    assert deploy_warnings("portal.W001", "portal.W002") == expected


def test_check_deploy_warns_about_a_broker_folder_anyone_may_write(settings, tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir(mode=0o700)
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
    }
    assert deploy_warnings("portal.W003") == []
    folder.chmod(0o777)
    assert deploy_warnings("portal.W003") == ["portal.W003"]
