print("meetmeter: not wired yet")
