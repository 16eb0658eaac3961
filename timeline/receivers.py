"""Signal receivers: lower layers' news becomes timeline lines (through services, no logic here)."""

from timeline.services import timeline_record_contract


def on_contract_changed(sender, contract=None, action: str = "", **kwargs) -> None:
    """``accounts.signals.contract_changed`` → one feed line, in the transaction that wrote the contract."""
    timeline_record_contract(contract=contract, action=action)
