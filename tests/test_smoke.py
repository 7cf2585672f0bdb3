import pytest


@pytest.mark.django_db
def test_portal_home_is_served_in_chinese(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "安居业主服务" in response.content.decode()


@pytest.mark.django_db
def test_admin_login_page_is_chinese(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "登录" in response.content.decode()
