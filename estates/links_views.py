"""QR codes: the public short link ``/q/<token>`` and the staff downloads.

* ``follow`` (public, ``config/urls.py``): a current unit token redirects to the project's repair
  form with ``?unit=<token>``, a building token with ``?building=<token>``; the form resolves
  the token through the hooks in ``estates/wagtail_hooks.py`` and records the channel "qr".
  A malformed, unknown or revoked token, or a project without a live repair form, gets a
  Chinese 404 page, never a redirect.
* Admin views (``register_admin_urls``, so Wagtail's admin-access check applies): a unit's or a
  building's code as PNG or SVG, and a building's printable A4 PDF sheet (WeasyPrint) with
  the building's own code for its public areas and one per unit. They need the view (or
  change) permission of the model and answer 404 for an object outside the staff member's
  projects (``estates.scope``). Nothing is fetched from anywhere while rendering: the codes
  are inline SVG, and WeasyPrint's fetcher accepts only ``data:`` URLs.
"""

import io

import segno
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import re_path, reverse
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import links, scope
from .models import Building, Unit

#: Quartile error correction: a poster in a stairwell survives some dirt and scratches.
QR_ERROR = "q"
QR_BORDER = 4  # the quiet zone the standard asks for, in modules
SCALE = 10  # pixels (PNG) or user units (SVG) per module: about 450 px for a short link
QR_KINDS = {"unit": Unit, "building": Building}


# --- Public ---------------------------------------------------------------------------------------


def repair_form_for(project):
    """The live repair form a QR code of ``project`` opens: the first (in tree order) under the
    project's ProjectPage, else the first directly under the home page, else None."""
    from forms.models import ServiceFormPage, ServiceKind
    from home.models import HomePage, ProjectPage

    pages = ServiceFormPage.objects.live().filter(kind=ServiceKind.REPAIR).order_by("path")
    for parents in (ProjectPage.objects.filter(project=project), HomePage.objects.all()):
        parent = parents.only("path", "depth").first()
        page = pages.child_of(parent).first() if parent is not None else None
        if page is not None:
            return page
    return None


def unavailable(request, title, message):
    return render(
        request, "estates/links/unavailable.html", {"title": title, "message": message}, status=404
    )


@never_cache
@require_safe
def follow(request, token):
    """``/q/<token>``: 302 to the repair form with the unit (or building) filled in."""
    link = links.current_link(token)
    if link is None:
        return unavailable(
            request,
            _("二维码无效或已停用"),
            _("这个二维码无法识别或已经停用。如需报修，请联系物业客服，或回到首页在线报修。"),
        )
    project = link.target.project
    page = repair_form_for(project)
    url = page.get_url(request) if page is not None else None
    if not url:
        if project.hotline:
            message = _("%(project)s暂未开通在线报修，请致电客服热线 %(hotline)s。") % {
                "project": project.name,
                "hotline": project.hotline,
            }
        else:
            message = _("%(project)s暂未开通在线报修，请致电物业客服中心。") % {"project": project.name}
        return unavailable(request, _("暂未开通在线报修"), message)
    parameter = "unit" if link.unit_id else "building"
    return redirect(f"{url}?{urlencode({parameter: link.token})}")


# --- Images ---------------------------------------------------------------------------------------


def qr_code(url):
    return segno.make(url, error=QR_ERROR, micro=False)


def qr_png(url):
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="png", scale=SCALE, border=QR_BORDER)
    return buffer.getvalue()


def qr_svg(url):
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="svg", scale=SCALE, border=QR_BORDER)
    return buffer.getvalue()


def qr_svg_inline(url):
    """An ``<svg>`` with a viewBox and no size, for HTML; CSS gives it its printed size."""
    return qr_code(url).svg_inline(border=QR_BORDER, omitsize=True)


def render_pdf(html):
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


# --- Admin views ----------------------------------------------------------------------------------


def may_view(user, model):
    name = model._meta.model_name
    return user.has_perm(f"estates.view_{name}") or user.has_perm(f"estates.change_{name}")


def scoped_object_or_404(request, model, pk, *also_needs):
    """``model``'s object ``pk`` with its project; 403 without the view (or change) permission
    of ``model`` and of ``also_needs``, 404 outside the staff member's projects."""
    if not all(may_view(request.user, needed) for needed in (model, *also_needs)):
        raise PermissionDenied
    return get_object_or_404(scope.restrict(model.objects.select_related("project"), request.user), pk=pk)


def target_label(obj):
    return obj.label if isinstance(obj, Unit) else obj.name


def download_name(project, label, extension):
    """钱塘雅苑-3-2-1502-二维码.png"""
    return "-".join([project.name, label, _("二维码")]) + "." + extension


def download(content, content_type, filename, as_attachment=True):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
def qr_image(request, kind, pk, fmt):
    """A unit's or building's QR code as a PNG or SVG download."""
    obj = scoped_object_or_404(request, QR_KINDS[kind], pk)
    url = links.short_url(links.link_for(obj))
    filename = download_name(obj.project, target_label(obj), fmt)
    if fmt == "png":
        return download(qr_png(url), "image/png", filename)
    return download(qr_svg(url), "image/svg+xml", filename)


def card(project, building, link, unit=None):
    url = links.short_url(link)
    return {
        "project": project.name,
        "building": building.name,
        "unit": unit.label if unit is not None else "",
        "url": url,
        "qr": qr_svg_inline(url),
    }


@require_safe
def building_sheet(request, pk):
    """A printable A4 PDF: the building's own code (public areas) on the first page, then one
    code per unit in a grid. Queries do not grow with the number of units."""
    from forms.forms import natural_key

    building = scoped_object_or_404(request, Building, pk, Unit)
    project = building.project
    units = sorted(
        Unit.objects.filter(building=building).only("id", "label", "building_id", "project_id").order_by(),
        key=lambda unit: natural_key(unit.label),
    )
    unit_links = links.links_for(units)
    context = {
        "project": project,
        "building": building,
        "building_card": card(project, building, links.link_for(building)),
        "unit_cards": [card(project, building, unit_links[unit.pk], unit) for unit in units],
    }
    pdf = render_pdf(render_to_string("estates/qr/sheet.html", context))
    filename = download_name(project, building.name, "pdf")
    return download(pdf, "application/pdf", filename, as_attachment=False)


def qr_buttons(obj, user):
    """(label, url, icon) of the QR downloads for a unit or building the user may view."""
    kind = "unit" if isinstance(obj, Unit) else "building"
    if not may_view(user, type(obj)):
        return []
    buttons = [
        (_("二维码（PNG）"), reverse("estates_qr", kwargs={"kind": kind, "pk": obj.pk, "fmt": "png"}), "download"),
        (_("二维码（SVG）"), reverse("estates_qr", kwargs={"kind": kind, "pk": obj.pk, "fmt": "svg"}), "download"),
    ]
    if kind == "building" and may_view(user, Unit):
        buttons.append((_("打印二维码（PDF）"), reverse("estates_qr_sheet", kwargs={"pk": obj.pk}), "doc-full"))
    return buttons


def admin_urls():
    return [
        re_path(
            r"^estates/qr/(?P<kind>unit|building)/(?P<pk>\d{1,18})\.(?P<fmt>png|svg)$",
            qr_image,
            name="estates_qr",
        ),
        re_path(r"^estates/qr/building/(?P<pk>\d{1,18})/sheet\.pdf$", building_sheet, name="estates_qr_sheet"),
    ]
