print("causa")
