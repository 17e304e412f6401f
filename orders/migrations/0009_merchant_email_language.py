"""The language of a merchant's notification e-mails (issue 14 item 16)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0008_rollup_update_triggers'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalmerchant',
            name='email_language',
            field=models.CharField(choices=[('zh-hans', '简体中文'), ('en', 'English')], db_default='zh-hans', default='zh-hans', max_length=8, verbose_name='邮件语言'),
        ),
        migrations.AddField(
            model_name='merchant',
            name='email_language',
            field=models.CharField(choices=[('zh-hans', '简体中文'), ('en', 'English')], db_default='zh-hans', default='zh-hans', max_length=8, verbose_name='邮件语言'),
        ),
    ]
