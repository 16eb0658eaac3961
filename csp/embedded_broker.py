"""kombu's filesystem transport with atomic writes, for the embedded broker of ``make run`` (csp/embedded.py).

The stock transport creates the message file, then writes it: a worker polling the folder can move and read it
in between, get an empty payload and die (``JSONDecodeError``, "Unrecoverable error"). Here a message is written
under a name the reader skips, then renamed into place (``os.replace`` is atomic on one filesystem).
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` onto ``queue``: write a hidden file, then rename it to the name readers look for."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".partial-{name}")  # "partial-..." != "<queue>.msg"
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
