from django.urls import path

from web import views

urlpatterns = [
    path("", views.index),
    path("healthz", views.healthz),
    path("slow", views.slow),
    path("cpu", views.cpu),
    path("async-slow", views.async_slow),
    path("upload", views.upload),
    path("whoami", views.whoami),
    path("dbcheck", views.dbcheck),
    path("tasks/enqueue", views.enqueue),
    path("tasks/<str:task_id>", views.task_result),
]
