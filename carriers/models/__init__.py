from carriers.models.trunks import Codec, Gateway, NumberFormat, Transport, Trunk

__all__ = ["Codec", "Gateway", "NumberFormat", "Transport", "Trunk"]
