print("meetmeter-aggregator: not wired yet")
