"""The outbound event-socket protocol on gevent: framing and one connection per call."""

from callcontrol.esl.connection import (
    LIVE_GREENLETS,
    CallControlError,
    CallEnded,
    CallerHungUp,
    CommandFailed,
    CommandTimeout,
    OutboundConnection,
)
from callcontrol.esl.framing import (
    EventHeaders,
    Message,
    Parser,
    ProtocolError,
    encode_command,
    fs_url_encode,
)
from callcontrol.esl.variables import ChannelVariables

__all__ = [
    "LIVE_GREENLETS",
    "CallControlError",
    "CallEnded",
    "CallerHungUp",
    "ChannelVariables",
    "CommandFailed",
    "CommandTimeout",
    "EventHeaders",
    "Message",
    "OutboundConnection",
    "Parser",
    "ProtocolError",
    "encode_command",
    "fs_url_encode",
]
