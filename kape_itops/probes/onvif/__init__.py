"""The ONVIF probe kind: cameras and NVRs over SOAP (onvif-zeep-async), HTTP and RTSP.

- :mod:`.kind`: the kind's declaration (``KIND``), light enough for the catalog to import;
- :mod:`.probe`: :class:`~.probe.OnvifProbe`, the probe the engine runs;
- :mod:`.layers`: the layered check of one camera (what each layer asks and learns);
- :mod:`.settings`: built-in defaults, ``probes/onvif.yaml`` and per-check settings;
- :mod:`.evaluate`: pure rules (clock drift, identity, JPEG, recording) turning answers into
  findings;
- :mod:`.client`: the only SOAP/HTTP/TCP I/O, with :mod:`.errors` (``translate()``),
  :mod:`.answers` (pure reading of what a device sent) and :mod:`.lib` (the library, imported
  without its root-logger side effect);
- :mod:`.rtsp`: the RTSP OPTIONS/DESCRIBE stream check (its own small protocol client);
- ``wsdl/``: the WSDL and XSD files, shipped so nothing is fetched at run time.

Nothing is imported here, so ``kind`` stays cheap to load.
"""
