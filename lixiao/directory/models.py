"""People and places: accounts (login = 学号 or 职工号), colleges, departments, staff, students."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lixiao.directory import codes, idnumbers


class UserManager(BaseUserManager):
    def create_user(self, username, password=None, **extra):
        user = self.model(username=username, **extra)
        if password:
            user.set_password(password)
            user.uses_initial_password = False
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username, password=None, **extra):
        extra.setdefault("is_office", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("is_staff", True)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """An account. Roles come from what the person is: a Student, an office flag, or grants."""

    username = models.CharField(_("学号/职工号"), max_length=32, unique=True)
    name = models.CharField(_("姓名"), max_length=64, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    is_staff = models.BooleanField(_("可进入 Django 管理后台"), default=False)
    is_office = models.BooleanField(_("学生离校工作主管部门（管理员）"), default=False)
    is_auditor = models.BooleanField(_("审计管理员（只读审计日志）"), default=False)
    # While True the password is the initial one (last 6 of the ID number), checked against
    # the encrypted ID number rather than stored: a roster of 50,000 needs no 50,000 hashes.
    uses_initial_password = models.BooleanField(_("仍使用初始密码"), default=True)
    initial_password_since = models.DateTimeField(_("初始密码生效时间"), default=timezone.now)
    date_joined = models.DateTimeField(_("创建时间"), default=timezone.now)

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")

    def __str__(self):
        return f"{self.name}（{self.username}）" if self.name else self.username

    def get_full_name(self):
        return self.name or self.username

    def get_short_name(self):
        return self.name or self.username

    def id_number(self) -> str | None:
        """The person's ID number, decrypted; only for the initial-password check."""
        for attr in ("student", "staff"):
            profile = getattr(self, attr, None) if hasattr(self, attr) else None
            if profile is not None and profile.id_number_enc:
                return idnumbers.decrypt(profile.id_number_enc)
        return None


class College(models.Model):
    code = models.CharField(_("院系代码"), max_length=16, unique=True)
    name = models.CharField(_("院系名称"), max_length=64, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = _("院系")

    def __str__(self):
        return self.name


class Department(models.Model):
    """A school-level department (学校部门): library, finance, dormitory …"""

    code = models.CharField(_("部门代码"), max_length=16, unique=True)
    name = models.CharField(_("部门名称"), max_length=64, unique=True)
    contact = models.CharField(
        _("联系方式"), max_length=128, blank=True, help_text=_("电话、地点、办公时间")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = _("职能部门")

    def __str__(self):
        return self.name


class PersonalIdentity(models.Model):
    """ID number stored encrypted, with a keyed hash for exact lookup and a masked prefix."""

    id_number_enc = models.TextField(_("身份证件号（加密）"), blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    id_number_masked = models.CharField(_("身份证件号（脱敏）"), max_length=32, blank=True)

    class Meta:
        abstract = True

    def set_id_number(self, value: str) -> None:
        value = idnumbers.normalise(value)
        self.id_number_enc = idnumbers.encrypt(value) if value else ""
        self.id_number_hash = idnumbers.lookup_hash(value) if value else ""
        self.id_number_masked = idnumbers.mask(value)


class Staff(PersonalIdentity):
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="staff")
    staff_number = models.CharField(_("职工号"), max_length=32, unique=True)
    name = models.CharField(_("姓名"), max_length=64)
    college = models.ForeignKey(
        College, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    phone = models.CharField(_("电话"), max_length=32, blank=True)

    class Meta:
        ordering = ["staff_number"]
        verbose_name = verbose_name_plural = _("教职工")

    def __str__(self):
        return f"{self.name}（{self.staff_number}）"


class StudentType(models.TextChoices):
    UNDERGRADUATE = "本科生", _("本科生")
    MASTER = "硕士研究生", _("硕士研究生")
    DOCTORAL = "博士研究生", _("博士研究生")


class Gender(models.TextChoices):
    MALE = "男", _("男")
    FEMALE = "女", _("女")


POLITICAL_STATUSES = codes.POLITICAL_STATUSES  # GB/T 4762's 13 names, in code order


class Student(PersonalIdentity):
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="student")
    student_number = models.CharField(_("学号"), max_length=32, unique=True)
    name = models.CharField(_("姓名"), max_length=64, db_index=True)
    gender = models.CharField(_("性别"), max_length=2, choices=Gender.choices, blank=True)
    college = models.ForeignKey(College, on_delete=models.PROTECT, related_name="students")
    major = models.CharField(_("专业"), max_length=64, blank=True)
    class_name = models.CharField(_("班级"), max_length=64, blank=True)
    student_type = models.CharField(_("学生类别"), max_length=8, choices=StudentType.choices)
    political_status = models.CharField(_("政治面貌"), max_length=16, blank=True)
    dormitory = models.CharField(_("宿舍"), max_length=64, blank=True)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)

    # Attributes a step's applicability condition may test (rules.CONDITION_ATTRIBUTES).
    def attributes(self) -> dict[str, str]:
        return {
            "student_type": self.student_type,
            "political_status": self.political_status,
            "college": self.college.code if self.college_id else "",
            "major": self.major,
            "gender": self.gender,
            "dormitory": self.dormitory,
        }

    class Meta:
        ordering = ["student_number"]
        verbose_name = verbose_name_plural = _("学生")
        indexes = [models.Index(fields=["college", "major", "class_name"])]

    def __str__(self):
        return f"{self.name}（{self.student_number}）"
