"""The registry every other app stands on: project → building → unit, owners, who serves what."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .normalize import mask_mobile, validate_mobile


class Project(models.Model):
    """楼盘 / 项目."""

    code = models.CharField(_("项目编码"), max_length=32, unique=True)
    name = models.CharField(_("项目名称"), max_length=100)
    city = models.CharField(_("城市"), max_length=50, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    hotline = models.CharField(_("客服热线"), max_length=50, blank=True)
    service_plan = models.TextField(_("客户服务方案"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("项目")
        verbose_name_plural = _("项目")

    def __str__(self):
        return self.name


class Building(models.Model):
    """楼栋."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("项目")
    )
    code = models.CharField(_("楼栋编号"), max_length=20, help_text=_("如 3，用于房号“3-2-1502”"))
    name = models.CharField(_("楼栋名称"), max_length=50, help_text=_("如 3号楼"))
    floors = models.PositiveSmallIntegerField(_("地上层数"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["project", "code"]
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        constraints = [
            models.UniqueConstraint(fields=["project", "code"], name="building_unique_code"),
        ]

    def __str__(self):
        return f"{self.project.name} {self.name}"


class HandoverStatus(models.TextChoices):
    PENDING = "pending", _("待交付")
    SCHEDULED = "scheduled", _("已预约")
    HANDED_OVER = "handed_over", _("已交付")
    REFUSED = "refused", _("拒收")


class Unit(models.Model):
    """房号: one home. ``label`` (building-entrance-number, e.g. 3-2-1502) is how people say it."""

    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="units", verbose_name=_("楼栋")
    )
    # Denormalised from building.project: every staff list filters by project, and a join per
    # row at 100,000 units is the query every screen would pay for.
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="units", verbose_name=_("项目")
    )
    entrance = models.CharField(_("单元"), max_length=10, blank=True)
    floor = models.SmallIntegerField(_("楼层"), null=True, blank=True)
    number = models.CharField(_("房号"), max_length=20)
    label = models.CharField(_("房号全称"), max_length=60, db_index=True, editable=False)
    area = models.DecimalField(
        _("建筑面积(㎡)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    layout = models.CharField(_("户型"), max_length=50, blank=True)
    delivery_batch = models.CharField(_("交付批次"), max_length=50, blank=True)
    handover_status = models.CharField(
        _("交付状态"),
        max_length=20,
        choices=HandoverStatus.choices,
        default=HandoverStatus.PENDING,
    )
    handover_date = models.DateField(_("交付日期"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["project", "label"]
        verbose_name = _("房号")
        verbose_name_plural = _("房号")
        constraints = [
            models.UniqueConstraint(
                fields=["building", "entrance", "number"], name="unit_unique_in_building"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "label"], name="unit_project_label"),
            models.Index(fields=["project", "delivery_batch"], name="unit_project_batch"),
            models.Index(fields=["project", "handover_status"], name="unit_project_handover"),
        ]

    def __str__(self):
        return self.label

    @staticmethod
    def make_label(building_code, entrance, number):
        return "-".join(part for part in (building_code, entrance, number) if part)

    def save(self, *args, **kwargs):
        self.project_id = self.building.project_id
        self.label = self.make_label(self.building.code, self.entrance, self.number)
        super().save(*args, **kwargs)


class Owner(models.Model):
    """业主. Not a Django user (ARCHITECTURE.md decision 4). The ID number itself is never kept:
    only its HMAC (to match on re-import) and its last 4 characters (to confirm by phone)."""

    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    mobile = models.CharField(
        _("手机号"), max_length=11, db_index=True, validators=[validate_mobile]
    )
    id_hash = models.CharField(_("身份证号摘要"), max_length=64, blank=True, editable=False)
    id_last4 = models.CharField(_("身份证后四位"), max_length=4, blank=True, editable=False)
    email = models.EmailField(_("电子邮箱"), blank=True)
    remark = models.CharField(_("备注"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("业主")
        verbose_name_plural = _("业主")
        indexes = [models.Index(fields=["id_hash"], name="owner_id_hash")]

    def __str__(self):
        return f"{self.name}（{mask_mobile(self.mobile)}）"

    def masked_mobile(self):
        return mask_mobile(self.mobile)

    masked_mobile.short_description = _("手机号")

    def unit_labels(self):
        # Reads the prefetched ownerships the listings ask for; no query per row.
        return "、".join(o.unit.label for o in self.ownerships.all() if o.end is None)

    unit_labels.short_description = _("房号")

    def created_at_local(self):
        return localtime(self.created_at).replace(tzinfo=None) if self.created_at else None

    created_at_local.short_description = _("创建时间")


class Ownership(models.Model):
    """Owner ↔ unit over time. At most one current (no end date) row per owner and unit."""

    owner = models.ForeignKey(
        Owner, on_delete=models.PROTECT, related_name="ownerships", verbose_name=_("业主")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="ownerships", verbose_name=_("房号")
    )
    start = models.DateField(_("起始日期"), null=True, blank=True)
    end = models.DateField(_("结束日期"), null=True, blank=True)
    is_primary = models.BooleanField(_("主业主"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("产权关系")
        verbose_name_plural = _("产权关系")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "unit"],
                condition=Q(end__isnull=True),
                name="ownership_one_current",
            ),
        ]

    def __str__(self):
        return f"{self.owner.name} · {self.unit.label}"

    def is_current(self):
        return self.end is None

    is_current.boolean = True
    is_current.short_description = _("当前")


class Department(models.Model):
    """部门: a responsible department on cases (客服部, 工程部, 物业 …)."""

    code = models.CharField(_("部门编码"), max_length=32, unique=True)
    name = models.CharField(_("部门名称"), max_length=100)
    phone = models.CharField(_("电话"), max_length=50, blank=True)
    description = models.TextField(_("职责说明"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self):
        return self.name


class Trade(models.Model):
    """A contractor's trade (水电, 防水 …); the shipped list is created on migrate."""

    code = models.CharField(_("工种编码"), max_length=32, unique=True)
    name = models.CharField(_("工种"), max_length=50, unique=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("工种")
        verbose_name_plural = _("工种")

    def __str__(self):
        return self.name


class Contractor(models.Model):
    """施工单位 / 维修单位."""

    name = models.CharField(_("单位名称"), max_length=100, unique=True)
    trades = models.ManyToManyField(Trade, blank=True, related_name="contractors", verbose_name=_("工种"))
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_mobile = models.CharField(
        _("联系手机"), max_length=11, blank=True, validators=[validate_mobile]
    )
    warranty_deposit = models.DecimalField(
        _("质保金(元)"), max_digits=12, decimal_places=2, default=0
    )
    projects = models.ManyToManyField(
        Project, blank=True, related_name="contractors", verbose_name=_("服务项目")
    )
    active = models.BooleanField(_("合作中"), default=True)
    remark = models.CharField(_("备注"), max_length=255, blank=True)

    history = HistoricalRecords(m2m_fields=[trades, projects])

    class Meta:
        ordering = ["name"]
        verbose_name = _("施工单位")
        verbose_name_plural = _("施工单位")

    def __str__(self):
        return self.name

    def trade_names(self):
        return "、".join(trade.name for trade in self.trades.all())

    trade_names.short_description = _("工种")

    def project_names(self):
        return "、".join(project.name for project in self.projects.all())

    project_names.short_description = _("服务项目")


class StaffProfile(models.Model):
    """Where a staff member works: the projects they serve (or all), department, supervisor.
    Groups say what they may do; this says where (ARCHITECTURE.md decision 3)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_profile",
        verbose_name=_("员工"),
    )
    all_projects = models.BooleanField(_("服务全部项目"), default=False)
    projects = models.ManyToManyField(
        Project, blank=True, related_name="staff_profiles", verbose_name=_("服务项目")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("部门"),
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上级"),
    )
    mobile = models.CharField(_("手机号"), max_length=11, blank=True, validators=[validate_mobile])

    history = HistoricalRecords(m2m_fields=[projects])

    class Meta:
        verbose_name = _("员工服务范围")
        verbose_name_plural = _("员工服务范围")

    def __str__(self):
        return str(self.user)


def import_file_storage():
    """Uploaded import files may hold ID numbers: private storage, never under MEDIA_URL."""
    from django.core.files.storage import storages

    return storages["private"]


class ImportJob(models.Model):
    """One Excel/CSV import of the registry into a project: the stored file, its progress and
    what it found or did (``summary``: counts per sheet, errors, sample rows)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("已上传")
        VALIDATING = "validating", _("校验中")
        VALIDATED = "validated", _("待确认")
        FAILED = "failed", _("失败")
        IMPORTING = "importing", _("导入中")
        DONE = "done", _("已完成")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("导入人"),
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="import_jobs", verbose_name=_("项目")
    )
    original_name = models.CharField(_("文件名"), max_length=255)
    file_format = models.CharField(_("文件格式"), max_length=10)
    kinds = models.CharField(_("数据类型"), max_length=100, blank=True)
    file = models.FileField(
        _("文件"), storage=import_file_storage, upload_to="estates/imports/%Y/%m/", max_length=255, blank=True
    )
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.UPLOADED)
    background = models.BooleanField(_("后台处理"), default=False)
    task_id = models.CharField(_("后台任务"), max_length=64, blank=True)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    summary = models.JSONField(_("结果"), default=dict, blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("导入记录")
        verbose_name_plural = _("导入记录")
        indexes = [models.Index(fields=["user", "-created_at"], name="importjob_user_created")]

    def __str__(self):
        return f"#{self.pk} {self.original_name}"

    @property
    def is_running(self):
        return self.status in (self.Status.UPLOADED, self.Status.VALIDATING, self.Status.IMPORTING)

    @property
    def percent(self):
        if not self.total_rows:
            return None
        return min(100, round(self.processed_rows * 100 / self.total_rows))


class ShortLink(models.Model):
    """短链接: the ``/q/<token>`` a printed QR code points at (ARCHITECTURE.md decision 15), for
    exactly one unit or one building. The token never changes while the link is current, so a
    poster survives any renaming of pages; a lost or defaced poster is replaced by revoking its
    link (``revoked_at``), after which ``estates.links.link_for`` issues a new token and the old
    one answers 404. At most one current link per unit and per building."""

    #: No 0/o, 1/i/l: a token read aloud or typed from a poster is not misread.
    TOKEN_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
    TOKEN_LENGTH = 10

    token = models.CharField(_("短链接标识"), max_length=16, unique=True, editable=False)
    unit = models.ForeignKey(
        Unit,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="short_links",
        verbose_name=_("房号"),
    )
    building = models.ForeignKey(
        Building,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="short_links",
        verbose_name=_("楼栋"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("二维码短链接")
        verbose_name_plural = _("二维码短链接")
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=False, building__isnull=True)
                | Q(unit__isnull=True, building__isnull=False),
                name="shortlink_one_target",
            ),
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(unit__isnull=False, revoked_at__isnull=True),
                name="shortlink_one_current_per_unit",
            ),
            models.UniqueConstraint(
                fields=["building"],
                condition=Q(building__isnull=False, revoked_at__isnull=True),
                name="shortlink_one_current_per_building",
            ),
        ]

    def __str__(self):
        return self.token

    @property
    def target(self):
        return self.unit if self.unit_id else self.building

    @property
    def is_current(self):
        return self.revoked_at is None
