"""ChangeRequest becomes a core model (its rows are kept: console 0002 renamed the table)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    """Permissions and any generic relation keep pointing at the same model."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="clearance", model="changerequest").exists():
        ContentType.objects.filter(app_label="console", model="changerequest").update(
            app_label="clearance"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('clearance', '0006_form_unfinished_by_age'),
        ('console', '0002_delete_changerequest'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('directory', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The table (clearance_changerequest) was renamed by console's 0002: only the state moves.
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='ChangeRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('add', '新增环节'), ('remove', '删除环节')], max_length=8, verbose_name='申请类型')),
                ('title', models.CharField(max_length=64, verbose_name='环节标题')),
                ('owner_type', models.CharField(blank=True, choices=[('department', '学校部门'), ('college', '院系')], max_length=16, verbose_name='环节类型')),
                ('instructions', models.TextField(blank=True, verbose_name='办理说明')),
                ('reason', models.TextField(verbose_name='申请理由')),
                ('requested_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='申请时间')),
                ('status', models.CharField(choices=[('pending', '待审核'), ('approved', '已同意'), ('rejected', '已驳回'), ('done', '已加入类别')], default='pending', max_length=16, verbose_name='状态')),
                ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='审核时间')),
                ('decision_note', models.TextField(blank=True, verbose_name='审核意见')),
                ('category', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='change_requests', to='clearance.category')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('department', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='directory.department')),
                ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('step', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='change_requests', to='clearance.step')),
            ],
            options={
                'verbose_name': '环节变更申请',
                'verbose_name_plural': '环节变更申请',
                'ordering': ['-requested_at', '-id'],
            },
        )]),
        migrations.RunPython(move_content_type, migrations.RunPython.noop),
    ]
