"""The cache dashboard: a staff page on the default admin site at /admin/monitoring/cache/,
linked with the jobs dashboard from the admin index.

There is no model behind it, so it is added to the admin's URLs rather than registered as a
ModelAdmin; the wrapper keeps whatever get_urls another app installed before it.
"""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_http_methods

from etrainer.api.errors import ApplicationError
from monitoring import selectors, services


@require_http_methods(["GET", "POST"])
def cache_dashboard_view(request):
    if request.method == "POST":
        _run_action(request)
        return redirect("admin:monitoring_cache_dashboard")
    context = {
        **admin.site.each_context(request),
        "title": "Cache dashboard",
        "dashboard": selectors.cache_dashboard(),
    }
    return TemplateResponse(request, "monitoring/cache_dashboard.html", context)


def _run_action(request) -> None:
    action = request.POST.get("action")
    try:
        if action == "invalidate_user":
            removed = services.cache_invalidate_user(user=request.POST.get("user", ""))
            messages.success(request, f"Removed {removed} cached key(s) of that user.")
        elif action == "invalidate_family":
            family = request.POST.get("family", "")
            services.cache_invalidate_family(family=family)
            messages.success(request, f"Every entry of the {family!r} family is now stale.")
        else:
            messages.error(request, "Unknown action.")
    except ApplicationError as error:
        messages.error(request, error.message)


_admin_urls = admin.site.get_urls


def _urls_with_dashboard():
    view = admin.site.admin_view(cache_dashboard_view)
    dashboard = path("monitoring/cache/", view, name="monitoring_cache_dashboard")
    return [dashboard, *_admin_urls()]


admin.site.get_urls = _urls_with_dashboard
# The index links the jobs and cache dashboards above the app list.
admin.site.index_template = "monitoring/admin_index.html"
