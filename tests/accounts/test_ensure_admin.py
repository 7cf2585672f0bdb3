from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from estates.scope import projects_for
from tests.factories import ProjectFactory


def run(**env):
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


@pytest.fixture
def data_dir(settings, tmp_path, monkeypatch):
    settings.DATA_DIR = tmp_path
    monkeypatch.delenv("ANJU_ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("ANJU_ADMIN_PASSWORD", raising=False)
    return tmp_path


@pytest.mark.django_db
def test_creates_admin_once_and_prints_the_same_login_again(data_dir):
    first = run()
    user = get_user_model().objects.get(username="admin")
    password = (data_dir / "admin-login.txt").read_text().split("\n")[1]
    assert user.is_superuser and user.check_password(password)
    assert password in first
    second = run()
    assert password in second
    assert get_user_model().objects.filter(username="admin").count() == 1


@pytest.mark.django_db
def test_takes_login_from_environment(data_dir, monkeypatch):
    monkeypatch.setenv("ANJU_ADMIN_USERNAME", "boss")
    monkeypatch.setenv("ANJU_ADMIN_PASSWORD", "s3cret-pass-word")
    run()
    user = get_user_model().objects.get(username="boss")
    assert user.check_password("s3cret-pass-word")
    assert not (data_dir / "admin-login.txt").exists()
    ProjectFactory()
    assert projects_for(user).count() == 1  # the administrator serves every project


@pytest.mark.django_db
def test_refuses_to_promote_an_existing_ordinary_user(data_dir, monkeypatch):
    get_user_model().objects.create_user(username="admin", password="whatever-pass-1")
    with pytest.raises(CommandError):
        run()
