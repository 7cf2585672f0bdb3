import pytest


@pytest.mark.django_db
def test_language_switch_changes_the_portal_language(client):
    page = client.get("/")
    assert page.status_code == 200
    assert 'lang="zh-hans"' in page.content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    english = client.get("/").content.decode()
    assert 'lang="en"' in english
    assert "Anju Owner Services" in english


@pytest.mark.django_db
def test_unknown_page_gets_the_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


@pytest.mark.django_db
def test_search_page_answers_empty_and_unmatched_queries(client):
    assert client.get("/search/").status_code == 200
    response = client.get("/search/", {"q": "不存在的词", "page": "abc"})
    assert response.status_code == 200
