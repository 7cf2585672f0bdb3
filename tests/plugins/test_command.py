"""``manage.py plugins`` lists each plugin's label, version, enabled flag and requirements; the
registry finds the plugins shipped under ``plugins/`` whether or not they are enabled, and
mounts the URLs of the enabled ones."""

import sys
import textwrap
from io import StringIO

import pytest
from django.core.management import call_command

import plugins
from plugins.base import PortalPlugin
from plugins.registry import PluginInfo, all_plugins, plugin_urlpatterns, shipped_plugin_classes
from tests.plugins.example.apps import ExamplePlugin
from tests.plugins.example.probe import parse_plugins_table


class NeedyPlugin(PortalPlugin):
    # No label: Django derives "needy" from the name, and so must the listing.
    name = "tests.plugins.needy"
    version = "0.3.0"
    description = "需要示例插件和工单插件"
    requires = ("example", "cases")


def plugins_output():
    out = StringIO()
    call_command("plugins", stdout=out)
    return out.getvalue()


def test_lists_label_version_enabled_and_requires(enable_fakes, monkeypatch):
    enable_fakes(ExamplePlugin)
    monkeypatch.setattr(plugins.registry, "shipped_plugin_classes", lambda: [NeedyPlugin])
    output = plugins_output()
    header = output.splitlines()[0].split()
    assert header == ["label", "version", "enabled", "requires", "description"]
    assert parse_plugins_table(output) == {
        "example": {
            "version": "1.2.0",
            "enabled": "yes",
            "requires": "-",
            "description": "插件约定的示例：一张表、一个页面、一个后台菜单项和一个信号接收器。",
        },
        "needy": {
            "version": "0.3.0",
            "enabled": "no",
            "requires": "example, cases",
            "description": "需要示例插件和工单插件",
        },
    }


def test_an_enabled_shipped_plugin_is_listed_once(enable_fakes, monkeypatch):
    enable_fakes(ExamplePlugin)
    monkeypatch.setattr(plugins.registry, "shipped_plugin_classes", lambda: [ExamplePlugin])
    assert [(info.label, info.enabled) for info in all_plugins()] == [("example", True)]


def test_says_so_when_there_is_no_plugin(monkeypatch, enable_fakes):
    enable_fakes()
    monkeypatch.setattr(plugins.registry, "shipped_plugin_classes", lambda: [])
    assert plugins_output() == "No plugins found.\n"


@pytest.fixture
def extra_shipped(tmp_path, monkeypatch):
    """Two more sub-packages of ``plugins/``, found on an extra ``plugins.__path__`` entry:
    ``demo`` (a plugin with a urls module; its apps.py also imports another plugin's config) and
    ``notaplugin`` (no apps.py)."""
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "__init__.py").write_text("")
    (demo / "apps.py").write_text(
        textwrap.dedent(
            """
            from plugins.base import PortalPlugin
            from tests.plugins.example.apps import ExamplePlugin  # imported, not defined here


            class DemoPlugin(PortalPlugin):
                name = "plugins.demo"
                version = "0.1.0"
                requires = ("example",)
            """
        )
    )
    (demo / "urls.py").write_text(
        textwrap.dedent(
            """
            from django.http import HttpResponse
            from django.urls import path

            app_name = "demo_app"  # the framework mounts it under the label's namespace anyway
            urlpatterns = [path("hello/", lambda request: HttpResponse("你好"), name="hello")]
            """
        )
    )
    (tmp_path / "notaplugin").mkdir()
    (tmp_path / "notaplugin" / "__init__.py").write_text("")
    monkeypatch.setattr(plugins, "__path__", [*plugins.__path__, str(tmp_path)])
    yield
    for name in list(sys.modules):
        if name.split(".")[:2] in (["plugins", "demo"], ["plugins", "notaplugin"]):
            del sys.modules[name]


def test_shipped_plugin_classes_finds_configs_defined_in_sub_packages(extra_shipped):
    found = shipped_plugin_classes()
    names = [f"{cls.__module__}.{cls.__qualname__}" for cls in found]
    assert names.count("plugins.demo.apps.DemoPlugin") == 1
    assert ExamplePlugin not in found and PortalPlugin not in found
    for cls in found:
        assert issubclass(cls, PortalPlugin) and cls.__module__.startswith("plugins."), cls

    infos = {info.label: info for info in all_plugins()}
    assert infos["demo"] == PluginInfo(
        label="demo",
        name="plugins.demo",
        version="0.1.0",
        description="",
        requires=("example",),
        enabled=False,
    )
    assert "notaplugin" not in infos
    assert parse_plugins_table(plugins_output())["demo"]["enabled"] == "no"


def test_an_enabled_plugin_urls_are_mounted_under_its_label(extra_shipped, enable_fakes):
    from plugins.demo.apps import DemoPlugin

    enable_fakes(DemoPlugin)
    (resolver,) = plugin_urlpatterns()
    assert str(resolver.pattern) == "demo/"
    assert resolver.namespace == "demo"
    match = resolver.resolve("demo/hello/")
    assert match.namespace == "demo" and match.url_name == "hello"
    assert match.func(None).content.decode() == "你好"


def test_a_plugin_without_urls_is_not_mounted(enable_fakes):
    class NoUrlsPlugin(PortalPlugin):
        name = "tests.plugins"  # a package without a urls module
        label = "nourls"

    enable_fakes(NoUrlsPlugin)
    assert plugin_urlpatterns() == []
