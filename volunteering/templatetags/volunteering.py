from django import template

register = template.Library()


@register.filter
def hours(minutes) -> str:
    """Minutes as hours with one decimal (funders count hours): 150 → "2.5"."""
    value = (minutes or 0) / 60
    return f"{value:.1f}".removesuffix(".0")


@register.filter
def month_cell(months, index) -> int:
    return months[index]
