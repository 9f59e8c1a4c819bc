"""The iJw 3.2 standard (berichtenverkeer Jeugdwet): code lists, reading, writing, validation.

* :mod:`jeugdlib.ijw.codes`: the code lists the analyses need, as constants.
* :mod:`jeugdlib.ijw.reader`: streaming reader (lxml iterparse) for JW301, JW305,
  JW307, JW315 and JW323, yielding column-oriented batches of raw values.
* :mod:`jeugdlib.ijw.writer`: XML writer (used by the demo generator and tests).
* :mod:`jeugdlib.ijw.validate`: optional validation against the official XSDs.

The official XSDs and example messages are not part of the project; they are read
from ``../shared/ijw`` (tests) or a user's own copy (``jeugdlib ingest --xsd DIR``).
"""
