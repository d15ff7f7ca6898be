print("meetmeter-agent: not wired yet")
