"""Finding devices on a network and comparing them with the inventory (``itops discover``).

``sweep`` (ARP/ping sweeps) and ``wsdiscovery`` (ONVIF WS-Discovery) are the only I/O;
``wsd_messages`` builds and parses WS-Discovery messages, ``diff`` compares what was found with
the inventory, ``record`` turns it into sweep records to store, and ``oui`` names the vendor of
a MAC (all pure). ``service`` is what front ends call.
"""
