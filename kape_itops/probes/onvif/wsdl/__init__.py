"""The ONVIF WSDL and XSD files the ONVIF probe loads, shipped so nothing is fetched at run time.

Copied from onvif-zeep-async 4.3.0 (``onvif/wsdl``): ``devicemgmt.wsdl``, ``media.wsdl``,
``recording.wsdl`` and the schemas they import. The three extension-less schemas of the
package (``envelope``, ``include``, ``xmlmime``) are renamed ``soap-envelope.xsd``,
``xop-include.xsd`` and ``xmlmime.xsd`` (with the imports in ``onvif.xsd`` edited to match) so
that the package-data globs ship them. Every import is a relative file path; the onvif
library's loader refuses remote locations, and a test checks that loading reads only files here.
"""

from pathlib import Path

WSDL_DIR = Path(__file__).resolve().parent
"""The folder holding the WSDL files."""
