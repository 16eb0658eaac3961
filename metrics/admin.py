from django.contrib import admin

from metrics.models import AcquisitionCost


@admin.register(AcquisitionCost)
class AcquisitionCostAdmin(admin.ModelAdmin):
    """Admins enter each month's sales & marketing expense; CAC = expense ÷ new customers (docs/metrics.md)."""

    list_display = ["month", "sales_marketing_expense", "note", "entered_by", "updated_at"]
    readonly_fields = ["entered_by", "updated_at"]

    def save_model(self, request, obj, form, change):
        obj.entered_by = request.user
        super().save_model(request, obj, form, change)
