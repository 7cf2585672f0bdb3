import pytest


@pytest.mark.django_db
def test_admin_login_page_is_chinese(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "登录" in response.content.decode()


@pytest.mark.django_db
def test_admin_dashboard_menu_is_chinese(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "楼盘档案" in html
