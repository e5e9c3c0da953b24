# The test kernel: replaced by the guest/ build.
guest:
