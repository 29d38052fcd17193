"""The operations on the store, the index and the subsites that the CLI and the API share:
index sync (:mod:`.indexing`), restore (:mod:`.emergency`), link checking (:mod:`.linkcheck`),
scheduling (:mod:`.scheduling`), run reports (:mod:`.reports`), the navigation map
(:mod:`.navigation`), and the integrator's dry run (:mod:`.plugin_check`) and scaffold
(:mod:`.scaffold`)."""
