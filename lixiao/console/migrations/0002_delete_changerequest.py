"""ChangeRequest moves to the core (clearance): its table is renamed, its rows kept."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('console', '0001_change_request'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name='ChangeRequest', table='clearance_changerequest'),
            ],
            state_operations=[
                migrations.DeleteModel(name='ChangeRequest'),
            ],
        ),
    ]
