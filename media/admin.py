from django.contrib import admin

from media.models import MediaAsset


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):
    list_display = ("public_id", "owner", "category", "format", "bytes", "backend", "created_at")
    list_filter = ("category", "backend", "resource_type")
    search_fields = ("public_id", "original_name", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = [field.name for field in MediaAsset._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
