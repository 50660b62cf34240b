from django.urls import path, re_path

from subscriptions import apis

ID = r"[^/.]+"

# The hot access checks first: every pattern tried before them costs each request a match.
urlpatterns = [
    path("me/access", apis.MyAccessApi.as_view(), name="my-access"),
    path("plans", apis.PlanListApi.as_view(), name="plan-list"),
    path("subscriptions", apis.SubscriptionListCreateApi.as_view(), name="subscription-list"),
    re_path(
        rf"^subscriptions/(?P<subscription_id>{ID})$",
        apis.SubscriptionDetailApi.as_view(),
        name="subscription-detail",
    ),
    re_path(
        rf"^subscriptions/(?P<subscription_id>{ID})/cancel$",
        apis.SubscriptionCancelApi.as_view(),
        name="subscription-cancel",
    ),
    re_path(
        rf"^subscriptions/(?P<subscription_id>{ID})/renew$",
        apis.SubscriptionRenewApi.as_view(),
        name="subscription-renew",
    ),
    re_path(
        rf"^subscriptions/(?P<subscription_id>{ID})/switch$",
        apis.SubscriptionSwitchApi.as_view(),
        name="subscription-switch",
    ),
    path("courses", apis.CourseListApi.as_view(), name="course-list"),
    re_path(
        rf"^courses/(?P<course_id>{ID})/access$",
        apis.CourseAccessApi.as_view(),
        name="course-access",
    ),
    path("ai-tokens", apis.AiTokensApi.as_view(), name="ai-tokens"),
    path("ai-tokens/consume", apis.AiTokensConsumeApi.as_view(), name="ai-tokens-consume"),
]
