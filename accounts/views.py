"""Book of business, account 360 and the account, contact, contract and account-team forms."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import policies, selectors, services
from accounts.filters import AccountFilter
from accounts.forms import (
    AccountForm,
    ContactForm,
    ContractChangeForm,
    ContractForm,
    CustomFieldDefinitionForm,
    ReassignForm,
    TeamMemberForm,
)
from accounts.models import Account, Contact, Contract, CustomFieldDefinition
from csp.decorators import role_required
from csp.models import Role, User
from csp.roles import managed_user_ids
from csp.selectors import assignable_owners

PAGE_SIZE = 50


def _owner_choices(user: User):
    """Owners this user may assign: everyone for admins, their team for managers, themselves for CSMs."""
    owners = assignable_owners()
    if user.role == Role.MANAGER:
        return owners.filter(id__in=managed_user_ids(user))
    if user.role == Role.CSM:
        return owners.filter(id=user.id)
    return owners


def _editable_account(request, pk: int) -> Account:
    account = get_object_or_404(Account, pk=pk)
    if not policies.can_edit_account(request.user, account):
        raise PermissionDenied("You may not change this account.")
    return account


@login_required
def account_list(request):
    """The book of business: filter, search, sort; totals over the whole filtered list."""
    params = request.GET.copy()
    if "scope" not in params:
        params["scope"] = selectors.default_scope(request.user)
    params.setdefault("ordering", "name")
    flt = AccountFilter(params, queryset=selectors.account_list(user=request.user), request=request)
    qs = flt.qs
    totals = selectors.account_totals(qs)
    paginator = Paginator(qs, PAGE_SIZE)
    paginator.count = totals["accounts"]  # the totals counted the list already: no second COUNT(*)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "filter": flt,
        "page": page,
        "totals": totals,
        "ordering": params.get("ordering"),
        "querystring": params.urlencode(),
        "can_create": policies.can_create_account(request.user),
        "can_reassign": policies.can_reassign(request.user),
    }
    if policies.can_reassign(request.user):
        context["reassign_owners"] = _owner_choices(request.user)
    template = "accounts/_account_table.html" if request.headers.get("HX-Request") else "accounts/account_list.html"
    return render(request, template, context)


@login_required
def account_picker(request):
    """JSON for the parent-account picker: up to 20 accounts whose name or domain contains ``q`` (every role reads
    every account), best first; ``exclude`` leaves out the account being edited. One query."""
    results = selectors.account_picker(q=request.GET.get("q", ""), exclude=request.GET.get("exclude"))
    return JsonResponse({"results": results})


@login_required
def account_detail(request, pk: int):
    """The account 360 page: header, contacts, contracts, children and account team."""
    try:
        account = selectors.account_detail(pk=pk)
    except Account.DoesNotExist as exc:
        raise Http404("No such account") from exc
    context = {
        "account": account,
        "can_edit": policies.can_edit_account(request.user, account),
        "can_delete": policies.can_delete_account(request.user, account),
        "team_form": TeamMemberForm(),
        "tab": "overview",
    }
    return render(request, "accounts/account_detail.html", context)


@login_required
def account_edit(request, pk: int | None = None):
    if pk is None:
        if not policies.can_create_account(request.user):
            raise PermissionDenied("Your role cannot create accounts.")
        account = None
    else:
        account = _editable_account(request, pk)
    initial = {"owner": request.user} if account is None and request.user.role == Role.CSM else {}
    form = AccountForm(request.POST or None, instance=account, initial=initial, owners=_owner_choices(request.user))
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in AccountForm.Meta.fields}
        try:
            if account is None:
                account = services.account_create(data=data)
            else:
                account = services.account_update(account=Account.objects.get(pk=account.pk), data=data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved {account.name}.")
            return redirect("accounts:detail", pk=account.pk)
    title = f"Edit {account.name}" if account else "New account"
    return render(request, "accounts/form.html", {"form": form, "title": title, "account": account})


@login_required
@require_POST
def account_delete(request, pk: int):
    account = get_object_or_404(Account, pk=pk)
    if not policies.can_delete_account(request.user, account):
        raise PermissionDenied("Your role cannot delete this account.")
    services.account_delete(account=account)
    messages.success(request, f"Deleted {account.name}.")
    return redirect("accounts:list")


@login_required
@require_POST
def account_reassign(request):
    """Managers and admins move selected accounts to another owner from the book of business."""
    if not policies.can_reassign(request.user):
        raise PermissionDenied("Only managers and admins reassign accounts.")
    form = ReassignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick at least one account and a new owner.")
        return redirect(request.META.get("HTTP_REFERER") or "accounts:list")
    owner = form.cleaned_data["owner"]
    accounts = list(form.cleaned_data["accounts"].select_related("owner"))
    if not policies.can_assign_owner(request.user, owner) or not all(
        policies.can_edit_account(request.user, a) for a in accounts
    ):
        raise PermissionDenied("You may only reassign your team's accounts to your team.")
    moved = services.account_reassign(account_ids=[a.id for a in accounts], owner=owner)
    messages.success(request, f"Reassigned {moved} account(s) to {owner}.")
    return redirect(request.META.get("HTTP_REFERER") or "accounts:list")


@login_required
@require_POST
def account_team_add(request, pk: int):
    account = _editable_account(request, pk)
    form = TeamMemberForm(request.POST)
    if form.is_valid():
        current = [(m.user, m.role) for m in account.team_members.select_related("user")]
        services.account_team_set(
            account=account, members=[*current, (form.cleaned_data["user"], form.cleaned_data["role"])]
        )
        messages.success(request, "Account team updated.")
    else:
        messages.error(request, "Pick a colleague and a role.")
    return redirect("accounts:detail", pk=pk)


@login_required
@require_POST
def account_team_remove(request, pk: int, member_id: int):
    account = _editable_account(request, pk)
    remaining = [(m.user, m.role) for m in account.team_members.select_related("user") if m.id != member_id]
    services.account_team_set(account=account, members=remaining)
    messages.success(request, "Account team updated.")
    return redirect("accounts:detail", pk=pk)


def _child_form(request, pk, model, form_class, obj_id, create, update, label):
    """Shared create/edit flow for contacts and contracts: permission, form, service, redirect."""
    account = _editable_account(request, pk)
    obj = get_object_or_404(model, pk=obj_id, account=account) if obj_id else None
    form = form_class(request.POST or None, instance=obj)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in form_class.Meta.fields}
        try:
            create(account, data) if obj is None else update(model.objects.get(pk=obj.pk), data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved {label}.")
            return redirect("accounts:detail", pk=pk)
    title = f"{'Edit' if obj else 'New'} {label} for {account.name}"
    return render(request, "accounts/form.html", {"form": form, "title": title, "account": account})


@login_required
def contact_edit(request, pk: int, contact_id: int | None = None):
    return _child_form(
        request, pk, Contact, ContactForm, contact_id,
        lambda account, data: services.contact_create(account=account, data=data),
        lambda contact, data: services.contact_update(contact=contact, data=data),
        "contact",
    )  # fmt: skip


@login_required
def contract_edit(request, pk: int, contract_id: int | None = None):
    return _child_form(
        request, pk, Contract, ContractForm, contract_id,
        lambda account, data: services.contract_create(account=account, data=data),
        lambda contract, data: services.contract_update(contract=contract, data=data, user=request.user),
        "contract",
    )  # fmt: skip


@login_required
def contract_change(request, pk: int, contract_id: int):
    """Upgrade/downgrade, renew or cancel a contract as dated history (the services refuse past dates to
    non-admins; every change is recorded)."""
    account = _editable_account(request, pk)
    contract = get_object_or_404(Contract, pk=contract_id, account=account)
    form = ContractChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action, data = form.cleaned_data["action"], form.cleaned_data
        try:
            if action == "amend":
                services.contract_amend(
                    contract=contract, effective_date=data["effective_date"], data=form.terms(), user=request.user
                )
            elif action == "renew":
                services.contract_renew(contract=contract, data=form.terms(), user=request.user)
            else:
                services.contract_cancel(
                    contract=contract, effective_date=data["effective_date"], reason=data["reason"], user=request.user
                )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Contract change recorded.")
            return redirect("accounts:detail", pk=pk)
    title = f"Change {contract} of {account.name}"
    return render(request, "accounts/form.html", {"form": form, "title": title, "account": account})


@login_required
@require_POST
def contact_delete(request, pk: int, contact_id: int):
    account = _editable_account(request, pk)
    services.contact_delete(contact=get_object_or_404(Contact, pk=contact_id, account=account))
    messages.success(request, "Contact removed.")
    return redirect("accounts:detail", pk=pk)


@login_required
@require_POST
def contract_delete(request, pk: int, contract_id: int):
    account = _editable_account(request, pk)
    try:
        contract = get_object_or_404(Contract, pk=contract_id, account=account)
        services.contract_delete(contract=contract, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Contract removed.")
    return redirect("accounts:detail", pk=pk)


# --- custom field definitions (admins) ----------------------------------------------------------------------


@role_required(Role.ADMIN)
def custom_field_list(request):
    definitions = CustomFieldDefinition.objects.all()
    return render(request, "accounts/custom_field_list.html", {"definitions": definitions})


@role_required(Role.ADMIN)
def custom_field_edit(request, pk: int | None = None):
    definition = get_object_or_404(CustomFieldDefinition, pk=pk) if pk else None
    form = CustomFieldDefinitionForm(request.POST or None, instance=definition)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in CustomFieldDefinitionForm.Meta.fields}
        try:
            saved = services.custom_field_definition_save(
                definition=CustomFieldDefinition.objects.get(pk=pk) if pk else None, data=data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved the custom field {saved.label}.")
            return redirect("accounts:custom_fields")
    title = f"Edit custom field {definition.label}" if definition else "New custom field"
    return render(request, "csp/form.html", {"form": form, "title": title})


@role_required(Role.ADMIN)
@require_POST
def custom_field_delete(request, pk: int):
    definition = get_object_or_404(CustomFieldDefinition, pk=pk)
    services.custom_field_definition_delete(definition=definition)
    messages.success(request, f"Deleted the custom field {definition.label}; account values are kept.")
    return redirect("accounts:custom_fields")
