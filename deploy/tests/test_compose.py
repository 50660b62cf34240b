"""docker-compose.yml and the Dockerfile, checked as data.

No Docker engine and no compose plugin can run here, so the compose file is read with PyYAML and
checked for what the deployment promises (services, one beat, health checks, replica-set init, env
file, no secrets). Where the compose plugin exists, `docker compose config -q` validates it too.
"""

import re
import shutil
import subprocess

import pytest
import yaml

from deploy.tests.nginx_harness import ROOT
from etrainer.tests.subprocess_env import env_file

COMPOSE = ROOT / "docker-compose.yml"
APP_SERVICES = ("app", "asgi", "worker", "beat", "migrate")
MONGO_NODES = ("mongo1", "mongo2", "mongo3")
TOOLS = ("mongo-express", "redis-commander", "flower")
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|PRIVATE_KEY|BASIC_AUTH)", re.I)


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load(COMPOSE.read_text())["services"]


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def test_every_service_of_the_deployment_is_defined(services):
    expected = {"nginx", *APP_SERVICES, *MONGO_NODES, "mongo-init", "redis", *TOOLS}

    assert expected <= set(services)


def test_three_app_replicas_run_granian_behind_nginx(services):
    app = services["app"]

    assert app["deploy"]["replicas"] == 3
    assert command_text(app) == "python -m etrainer.serve"
    assert app["environment"]["WEB_SERVER"] == "${WEB_SERVER:-granian}"
    assert "ports" not in app
    assert services["nginx"]["depends_on"]["app"]["condition"] == "service_healthy"
    assert {"80", "443"} <= {port.rsplit(":", 1)[-1] for port in services["nginx"]["ports"]}


def test_websockets_are_served_by_the_asgi_service_behind_nginx(services):
    asgi = services["asgi"]
    nginx_conf = (ROOT / "nginx.conf").read_text()
    ws_upstream = re.search(r"upstream etrainer_ws \{(.*?)\}", nginx_conf, re.DOTALL)
    ws_location = re.search(r"location /ws/ \{(.*?)\}", nginx_conf, re.DOTALL)

    assert command_text(asgi).startswith("uvicorn etrainer.asgi:application")
    assert "--port 8001" in command_text(asgi)
    assert "ports" not in asgi
    assert asgi["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["nginx"]["depends_on"]["asgi"]["condition"] == "service_healthy"
    assert "server asgi:8001 " in ws_upstream[1]
    assert "proxy_pass http://etrainer_ws;" in ws_location[1]
    assert "proxy_read_timeout 1h;" in ws_location[1]
    assert "proxy_set_header" not in ws_location[1]  # would drop the inherited Upgrade headers


def test_exactly_one_beat_and_scalable_workers(services):
    beats = [name for name, s in services.items() if re.search(r"\bbeat\b", command_text(s))]

    assert beats == ["beat"]
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "DatabaseScheduler" in command_text(services["beat"])
    assert "celery -A etrainer worker" in command_text(services["worker"])
    assert "container_name" not in services["worker"]


@pytest.mark.parametrize("name", ["nginx", "app", "asgi", "worker", "redis", *MONGO_NODES])
def test_long_running_services_have_health_checks(services, name):
    assert services[name]["healthcheck"]["test"]


def test_the_app_image_health_check_is_manage_py_healthcheck(services):
    assert services["app"]["healthcheck"]["test"] == ["CMD", "python", "manage.py", "healthcheck"]


def test_the_asgi_health_check_asks_uvicorn_for_health(services):
    test = services["asgi"]["healthcheck"]["test"]

    assert test[:4] == ["CMD", "python", "manage.py", "healthcheck"]
    assert test[test.index("--url") + 1] == "http://127.0.0.1:8001/health"
    assert "--port 8001" in command_text(services["asgi"])


def mounts(service: dict) -> dict[str, str]:
    """Target path -> source of each short-syntax volume entry (":ro" kept on the source)."""
    entries = (volume.split(":", 1) for volume in service.get("volumes", []))
    return {target.removesuffix(":ro"): f"{source}{':ro' * target.endswith(':ro')}"
            for source, target in entries}  # fmt: skip


def dockerfile_env(name: str) -> str:
    return re.search(rf"\b{name}=(\S+)", (ROOT / "Dockerfile").read_text())[1]


def test_uploaded_media_live_on_a_volume_that_nginx_serves(services):
    top_level = yaml.safe_load(COMPOSE.read_text())["volumes"]
    media_root = env_file(ROOT / ".env.production.example")["DJANGO_MEDIA_ROOT"]
    location = re.search(r"location /media/ \{(.*?)\}", (ROOT / "nginx.conf").read_text(), re.S)
    alias = re.search(r"alias (\S+)/;", location[1])[1]

    assert "media" in top_level
    assert media_root == dockerfile_env("DJANGO_MEDIA_ROOT")
    assert media_root.startswith("/app/var/")  # /app/media is the media app's code
    for name in ("app", "asgi", "worker"):
        assert mounts(services[name])[media_root] == "media", name
    assert mounts(services["nginx"])[alias] == "media:ro"


def test_backups_are_written_to_a_named_volume(services):
    top_level = yaml.safe_load(COMPOSE.read_text())["volumes"]
    backup_dir = env_file(ROOT / ".env.production.example")["BACKUP_DIR"]

    assert backup_dir == dockerfile_env("BACKUP_DIR")
    assert mounts(services["worker"])[backup_dir] == "backups"
    assert "backups" in top_level


def test_mongodb_is_a_replica_set_initiated_once_by_a_one_shot_service(services):
    for node in MONGO_NODES:
        assert command_text(services[node]) == "mongod --replSet rs0 --bind_ip_all"
    init = services["mongo-init"]
    assert init["restart"] == "no"
    assert dict.fromkeys(MONGO_NODES, "service_healthy") == {
        node: dep["condition"] for node, dep in init["depends_on"].items()
    }
    script = (ROOT / "deploy" / "mongo" / "init-replica-set.js").read_text()
    assert 'rs.initiate({ _id: "rs0", members })' in script
    assert set(re.findall(r'host: "(mongo\d):27017"', script)) == set(MONGO_NODES)
    database_url = env_file(ROOT / ".env.production.example")["DATABASE_URL"]
    assert database_url.startswith("mongodb://mongo1:27017,mongo2:27017,mongo3:27017/")
    assert "replicaSet=rs0" in database_url


def test_migrate_schedules_and_indexes_run_once_before_the_app(services):
    migrate = services["migrate"]

    assert migrate["restart"] == "no"
    steps = command_text(migrate)
    assert steps.index("migrate --noinput") < steps.index("setup_schedules")
    assert steps.index("setup_schedules") < steps.index("ensure_indexes")
    assert migrate["depends_on"]["mongo-init"]["condition"] == "service_completed_successfully"
    for name in ("app", "asgi", "worker", "beat"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_the_http_services_trust_forwarded_for_only_from_their_own_network(services):
    subnet = yaml.safe_load(COMPOSE.read_text())["networks"]["backend"]["ipam"]["config"][0]
    for name in ("app", "asgi"):
        trusted = services[name]["environment"]["RATELIMIT_TRUSTED_PROXIES"]
        assert trusted == subnet["subnet"] == "${ETRAINER_SUBNET:-172.28.0.0/16}", name
    uvicorn = services["asgi"]["command"]
    assert uvicorn[uvicorn.index("--forwarded-allow-ips") + 1] == subnet["subnet"]
    assert "RATELIMIT_TRUSTED_PROXIES" not in env_file(ROOT / ".env.production.example")


def test_tools_run_only_in_their_profile_and_only_on_loopback(services):
    for name in TOOLS:
        assert services[name]["profiles"] == ["tools"]
        assert all(port.startswith("127.0.0.1:") for port in services[name]["ports"]), name
    monitoring = ("prometheus", "alertmanager")  # test_compose_monitoring.py
    assert not [
        n for n, s in services.items() if "profiles" in s and n not in (*TOOLS, *monitoring)
    ]


def test_settings_come_from_the_env_file_and_no_secret_is_written_in_compose(services):
    for name in (*APP_SERVICES, *TOOLS):
        [env] = services[name]["env_file"]
        assert env["path"] == "${ETRAINER_ENV_FILE:-.env.production}", name
    for name, service in services.items():
        environment = service.get("environment", {})
        assert not [key for key in environment if SECRET_NAME.search(key)], name
    assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", COMPOSE.read_text()), "password in a URL"


def test_the_env_file_template_sets_every_secret_to_a_placeholder():
    values = env_file(ROOT / ".env.production.example")

    secrets = {k: v for k, v in values.items() if SECRET_NAME.search(k) and "FROM" not in k}
    assert secrets
    assert all("CHANGE-ME" in value for value in secrets.values()), secrets


def test_dockerfile_is_multi_stage_non_root_with_healthcheck_and_the_serve_launcher():
    text = (ROOT / "Dockerfile").read_text()
    app_stage = text[text.index("AS app\n") :]

    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 3
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert "collectstatic --noinput" in text
    assert "USER etrainer" in app_stage
    assert 'CMD ["python", "manage.py", "healthcheck"]' in app_stage
    assert 'CMD ["python", "-m", "etrainer.serve"]' in app_stage


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()

    assert {".env", ".env.*", ".venv", ".git", "var"} <= set(ignored)


def test_nginx_conf_has_the_tls_and_websocket_blocks():
    text = (ROOT / "nginx.conf").read_text()

    assert "ssl_protocols TLSv1.2 TLSv1.3;" in text
    assert "return 301 https://$host$request_uri;" in text
    assert "location /ws/ {" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text


def compose_plugin_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not compose_plugin_available(), reason="the docker compose plugin is absent")
def test_docker_compose_config_validates_the_file():
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "-q"],
        cwd=ROOT,
        env={"ETRAINER_ENV_FILE": ".env.production.example", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
