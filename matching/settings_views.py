"""The menu's settings page: categories and items, added and changed without the admin."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from buddyscheme.access import get_scheme_for_coordinator, role_required
from buddyscheme.models import Role
from buddyscheme.settings_views import saved

from . import menu
from .access import get_menu_category_for_user, get_menu_item_for_user
from .forms import MenuCategoryForm, MenuItemForm


def _menu_page(request, scheme, item_form=None, category_form=None):
    return render(
        request,
        "matching/settings/menu.html",
        {
            "categories": menu.menu_for_scheme(scheme),
            "item_form": item_form or MenuItemForm(scheme=scheme),
            "category_form": category_form or MenuCategoryForm(scheme=scheme),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_menu(request):
    """The menu, with a form to add an item (posted here) and one to add a category."""
    scheme = get_scheme_for_coordinator(request)
    if request.method == "GET":
        return _menu_page(request, scheme)
    form = MenuItemForm(request.POST, scheme=scheme)
    if form.is_valid() and saved(form, menu.menu_item_create, scheme=scheme, by=request.user):
        messages.success(request, f"“{form.cleaned_data['name']}” added to the menu.")
        return redirect("matching:settings_menu")
    return _menu_page(request, scheme, item_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def settings_menu_category_add(request):
    scheme = get_scheme_for_coordinator(request)
    form = MenuCategoryForm(request.POST, scheme=scheme)
    if form.is_valid() and saved(form, menu.menu_category_create, scheme=scheme, by=request.user):
        messages.success(request, f"Category “{form.cleaned_data['name']}” added.")
        return redirect("matching:settings_menu")
    return _menu_page(request, scheme, category_form=form)


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_menu_category_edit(request, pk):
    category = get_menu_category_for_user(request, pk)
    name = category.name  # as saved: the form changes the instance as it checks what was typed
    form = MenuCategoryForm(request.POST or None, instance=category, scheme=category.scheme)
    if (
        request.method == "POST"
        and form.is_valid()
        and saved(form, menu.menu_category_update, category=category, by=request.user)
    ):
        messages.success(request, "Category saved.")
        return redirect("matching:settings_menu")
    return render(
        request,
        "matching/settings/category_edit.html",
        {"form": form, "category": category, "name": name},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_menu_item_edit(request, pk):
    item = get_menu_item_for_user(request, pk)
    name = item.name  # as saved: the form changes the instance as it checks what was typed
    form = MenuItemForm(request.POST or None, instance=item, scheme=item.category.scheme)
    if (
        request.method == "POST"
        and form.is_valid()
        and saved(form, menu.menu_item_update, item=item, by=request.user)
    ):
        messages.success(
            request,
            "Item saved."
            if form.cleaned_data["is_active"]
            else "Item retired: nobody new can choose it.",
        )
        return redirect("matching:settings_menu")
    return render(
        request, "matching/settings/item_edit.html", {"form": form, "item": item, "name": name}
    )
