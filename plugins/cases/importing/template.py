"""The downloadable template: one sheet 工单 with the Chinese headers (required ones in red, each
with a comment), one example row, drop-down lists for the fixed vocabularies and text format on
the columns Excel would otherwise mangle (numbers, phones, unit labels). Laid out by estates'
template builder; an example row left in place is skipped on import."""

import io

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from estates.importing import template as estates_template

from ..models import Channel, ComplaintGrade, Kind, Priority, Status
from .schema import CASE_KIND, MOMENTS

LISTS = {"kind": Kind, "channel": Channel, "priority": Priority, "complaint_grade": ComplaintGrade, "status": Status}


def build():
    """The template as .xlsx bytes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(CASE_KIND.label)
    estates_template._data_sheet(sheet, CASE_KIND)
    for index, column in enumerate(CASE_KIND.columns, start=1):
        letter = get_column_letter(index)
        if column.key in MOMENTS:
            sheet.cell(row=2, column=index).number_format = "yyyy-mm-dd hh:mm"
            sheet.column_dimensions[letter].width = 18
        if column.key in LISTS:
            choices = '"%s"' % ",".join(str(label) for _value, label in LISTS[column.key].choices)
            validation = DataValidation(type="list", formula1=choices, allow_blank=True)
            validation.add(f"{letter}2:{letter}{estates_template.VALIDATION_ROWS}")
            sheet.add_data_validation(validation)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
