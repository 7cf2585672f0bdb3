import json
import re

import pytest


@pytest.mark.django_db
def test_admin_login_page_is_chinese(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "登录" in response.content.decode()


@pytest.mark.django_db
def test_admin_menu_shows_the_registry_in_chinese(admin_client):
    html = admin_client.get("/admin/").content.decode()
    # The sidebar is rendered from JSON props, where non-ASCII text is \u-escaped.
    props = re.search(r'id="wagtail-sidebar-props"[^>]*>(.*?)</script>', html, re.S).group(1)
    assert "楼盘档案" in json.dumps(json.loads(props), ensure_ascii=False)
