// placeholder until BusOptions lands
