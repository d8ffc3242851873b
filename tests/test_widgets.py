"""QuickSelect writes the same HTML as Django's Select, faster."""

import pytest
from django import forms
from django.test.html import parse_html

from usdoctors.widgets import QuickSelect

CHOICES = [("", "Any"), ("a", "A & B"), ("<x>", "X <y>"), ("3", "Three")]


@pytest.mark.parametrize("value", [None, "", "a", "<x>", 3, "missing"])
@pytest.mark.parametrize("attrs", [None, {"id": "id_f", "aria-describedby": "f_help"}])
def test_quick_select_renders_what_select_renders(value, attrs):
    expected = forms.Select(choices=CHOICES).render("f", value, attrs)
    written = QuickSelect(choices=CHOICES).render("f", value, attrs)
    assert parse_html(written) == parse_html(expected)
    assert "<x>" not in written  # values and labels are escaped


def test_quick_select_marks_the_bound_value_in_a_form():
    class Form(forms.Form):
        f = forms.ChoiceField(choices=CHOICES, required=False, widget=QuickSelect)

    html = str(Form({"f": "3"})["f"])
    assert '<option value="3" selected>Three</option>' in html
    assert html.count("selected") == 1
