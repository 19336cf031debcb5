from carriers.models.trunks import Codec, Gateway, Transport, Trunk

__all__ = ["Codec", "Gateway", "Transport", "Trunk"]
