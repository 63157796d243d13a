"""The event-sourcing kernel: what every aggregate shares (records, codecs, the command cycle, loading, publishing,
projections, composition). It knows no aggregate by name; an aggregate plugs in by declaring itself
(`kernel/aggregate.py`), and the catalog (`ledger/catalog.py`) lists the declarations."""
