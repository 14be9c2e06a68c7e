"""The certificate PDF, drawn with fpdf2 (docs/dependencies.md). Plain and large: the student's name, the
course, the term, the sessions attended, the organisation. Names in any script need a Unicode font: DejaVu
Sans where the system has it (Debian's fonts-dejavu-core; the Docker image does not install it yet, see
docs/college.md); without it, the PDF's built-in Helvetica, which holds Latin-1 only, with any other character
replaced."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF

FONT_DIR = Path(getattr(settings, "COLLEGE_CERTIFICATE_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))


def certificate_pdf(*, enrolment, completion) -> bytes:
    run = enrolment.run
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(f"Certificate: {run.course.title}")
    pdf.set_author(run.course.organisation.name)
    pdf.set_creator("Rapport")
    unicode = (FONT_DIR / "DejaVuSans.ttf").exists() and (FONT_DIR / "DejaVuSans-Bold.ttf").exists()
    if unicode:
        pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        family = "DejaVu"
    else:
        family = "Helvetica"

    def text(value: str) -> str:
        return value if unicode else value.encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()
    pdf.set_margins(25, 25, 25)
    pdf.set_y(30)
    pdf.set_font(family, "B", 16)
    pdf.cell(0, 10, text(f"{run.course.organisation.name} Recovery College"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(family, "B", 32)
    pdf.cell(0, 16, "Certificate of completion", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font(family, "", 16)
    pdf.cell(0, 10, "This is to certify that", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "B", 26)
    pdf.cell(0, 16, text(enrolment.student.full_name), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 16)
    pdf.cell(0, 10, "completed the course", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "B", 22)
    pdf.multi_cell(0, 12, text(run.course.title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 14)
    pdf.ln(4)
    pdf.cell(0, 9, text(f"{run.term.name}: attended {completion.attended} of {completion.sessions} sessions"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 9, text(f"Issued {timezone.localdate():%-d %B %Y}"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(family, "", 11)
    pdf.cell(0, 8, text(f"Certificate reference: {run.course.organisation_id}-{run.pk}-{enrolment.pk}"), align="C")
    return bytes(pdf.output())
