"""The portal's user: signs in by e-mail, carries the profile that training
records and reports group by."""

from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from portal.validators import normalise_email


class UserManager(DjangoUserManager):
    """Creates users keyed by e-mail; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        email = normalise_email(email)
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person with an account: trainee, expert, editor or administrator."""

    username = None  # type: ignore[assignment]  # removes AbstractUser's field
    first_name = None  # type: ignore[assignment]  # removes AbstractUser's field
    last_name = None  # type: ignore[assignment]  # removes AbstractUser's field
    email = models.EmailField(_("e-mail address"), unique=True)
    real_name = models.CharField(
        _("real name"),
        max_length=100,
        blank=True,
        help_text=_("As it should appear on certificates."),
    )
    audience = models.ForeignKey(
        "portal.Audience",
        verbose_name=_("audience group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    district = models.ForeignKey(
        "portal.District",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    language = models.CharField(
        _("preferred language"),
        max_length=10,
        default="zh-hans",
        help_text=_("Used for e-mails and certificates."),
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="portal_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.real_name or self.email

    def get_full_name(self) -> str:
        return self.real_name or self.email

    def get_short_name(self) -> str:
        return self.real_name or self.email.split("@")[0]

    # --- staff powers need a session that proved MFA (portal.staff) ---------

    @property
    def staff_powers(self) -> bool:
        """Whether this user's permissions count in the current request: False
        while the request's session has not proved its second factor (set by
        portal.middleware.StaffMFAMiddleware); True outside requests."""
        check = self.__dict__.get("_staff_powers_check")
        if check is None:
            return True
        if "_staff_powers" not in self.__dict__:
            self.__dict__["_staff_powers"] = bool(check())
        return self.__dict__["_staff_powers"]

    def has_perm(self, perm, obj=None) -> bool:
        return self.staff_powers and super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        return self.staff_powers and super().has_module_perms(app_label)

    def __getstate__(self) -> dict:
        # The mark belongs to one request: never pickled with the user.
        state = super().__getstate__()
        state.pop("_staff_powers_check", None)
        state.pop("_staff_powers", None)
        return state

    def holds_perm(self, perm: str) -> bool:
        """The permission the user holds, whether or not this session proved
        MFA (for showing the way to the admin, never for using it)."""
        return super().has_perm(perm)
