// placeholder until Alerting lands
