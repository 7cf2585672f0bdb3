"""The plugin framework: base class, registry, settings access, checks and declared signals.

Each plugin is a sub-package (``plugins/cases/`` …) whose AppConfig subclasses
:class:`plugins.base.PortalPlugin` and is enabled by listing that class's dotted path in
``PORTAL_PLUGINS``.
"""
