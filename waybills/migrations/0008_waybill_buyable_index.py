"""A partial index of the parcels the tier can still be bought for (the order list's "eligible"
filter); built concurrently, so a large waybills table keeps taking writes meanwhile."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('waybills', '0006_waybill_promise_due'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='waybill',
            index=models.Index(condition=models.Q(('delivered_at__isnull', True), ('is_platform_issued', True), models.Q(('status__in', ('delivered', 'returned', 'return_scheduled', 'return_picked_up')), _negated=True)), fields=['order'], include=('carrier',), name='waybill_buyable'),
        ),
    ]
