// placeholder until the Curl wrapper lands
