def test_the_suite_runs_on_the_test_settings(settings):
    """Importing the etrainer package (Celery app) must not switch the suite to local settings."""
    assert settings.SETTINGS_MODULE == "etrainer.settings.test"
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
