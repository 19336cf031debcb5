from pbx.models.extensions import Device, Extension

__all__ = ["Device", "Extension"]
