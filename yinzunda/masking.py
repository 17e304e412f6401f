"""Masking of buyer personal data (DESIGN §5.7): shown masked everywhere the job does not need it."""


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_name(name: str) -> str:
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_address(address: str) -> str:
    address = address.strip()
    keep = min(6, max(0, len(address) - 4))
    return address[:keep] + "****"
