"""AppConfigs that give contrib and third-party apps ObjectId primary keys under MongoDB.

Used only when DATABASE_URL is a MongoDB URL (see settings/database.py); each app's migrations
for that engine live in ``etrainer/mongo_migrations/<label>/``.
"""

from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.apps import AuthConfig
from django.contrib.contenttypes.apps import ContentTypesConfig
from django_celery_beat.apps import BeatConfig

OBJECT_ID_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"


class MongoAdminConfig(AdminConfig):
    default_auto_field = OBJECT_ID_AUTO_FIELD


class MongoAuthConfig(AuthConfig):
    default_auto_field = OBJECT_ID_AUTO_FIELD


class MongoContentTypesConfig(ContentTypesConfig):
    default_auto_field = OBJECT_ID_AUTO_FIELD


class MongoCeleryBeatConfig(BeatConfig):
    default_auto_field = OBJECT_ID_AUTO_FIELD
