"""Demo logins for contact requests (README gives them): a verified demo
enterprise with its user, and an expert account linked to a demo expert, so
that a visitor can try both sides. Idempotent: what exists is left alone."""

from django.db import transaction
from django.utils import timezone

from portal.models import District, User
from talentpool.models import Enterprise, EnterpriseMember, Expert
from talentpool.validators import credit_code_check_character

ENTERPRISE_EMAIL = "enterprise@example.org"
ENTERPRISE_PASSWORD = "Qiye-2027-demo"
EXPERT_EMAIL = "expert@example.org"
EXPERT_PASSWORD = "Zhuanjia-2027-demo"
_CODE_FIRST17 = "91500112MA60A2027"
ENTERPRISE_CREDIT_CODE = _CODE_FIRST17 + credit_code_check_character(_CODE_FIRST17)


def _demo_user(email: str, password: str, **fields: object) -> tuple[User, bool]:
    """A user with a verified e-mail address (allauth), made once."""
    from allauth.account.models import EmailAddress

    user = User.objects.filter(email=email).first()
    if user is not None:
        return user, False
    user = User.objects.create_user(email=email, password=password, **fields)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user, True


@transaction.atomic
def load_contacts_demo(created: list[str]) -> None:
    """The demo enterprise (verified) and the demo expert's account; appends
    what it made to `created`."""
    user, new = _demo_user(
        ENTERPRISE_EMAIL,
        ENTERPRISE_PASSWORD,
        real_name="王芳",
        organisation="重庆山城智造科技有限公司（演示）",
        job_title="知识产权经理",
    )
    if new:
        created.append(ENTERPRISE_EMAIL)
    if not EnterpriseMember.objects.filter(user=user).exists():
        enterprise = Enterprise.objects.filter(
            credit_code=ENTERPRISE_CREDIT_CODE
        ).first() or Enterprise.objects.create(
            name="重庆山城智造科技有限公司（演示）",
            credit_code=ENTERPRISE_CREDIT_CODE,
            district=District.objects.filter(code="yubei").first(),
            address="重庆市渝北区金开大道演示路1号",
            contact_name="王芳",
            contact_email=ENTERPRISE_EMAIL,
            contact_phone="023-6700 2027",
            # Demo data only: real enterprises are verified by a reviewer.
            status=Enterprise.Status.VERIFIED,
            reviewed_at=timezone.now(),
            registered_by=user,
        )
        EnterpriseMember.objects.create(enterprise=enterprise, user=user)
        created.append(f"demo enterprise {enterprise.name}")

    expert_user, new = _demo_user(EXPERT_EMAIL, EXPERT_PASSWORD)
    if new:
        created.append(EXPERT_EMAIL)
    if not Expert.objects.filter(user=expert_user).exists():
        expert = (
            Expert.objects.listed()
            .filter(
                external_id__startswith="DEMO-",
                accepting_requests=True,
                user__isnull=True,
            )
            .order_by("external_id")
            .first()
        )
        if expert is not None:
            expert.user = expert_user
            expert.save(update_fields=["user", "updated_at"])
            expert_user.real_name = expert.name
            expert_user.save(update_fields=["real_name"])
            created.append(f"{EXPERT_EMAIL} linked to demo expert {expert.name}")
