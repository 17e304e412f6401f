from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('carriers', '0004_webhooks_safe_sequenced'),
    ]

    operations = [
        migrations.AlterField(
            model_name='webhookdelivery',
            name='sequence',
            field=models.BigIntegerField(verbose_name='序号'),
        ),
    ]
