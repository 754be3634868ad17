# Devices for the cc-swiotlb test bed (configure --without-default-devices
# --with-devices-x86_64=cc-testbed): the two PC machines, the disks we
# hot-plug (virtio-blk, NVMe) behind PCIe root ports, virtio-net, and the
# ISA serial ports the runner uses for the console and the data channel.
CONFIG_Q35=y
CONFIG_I440FX=y
CONFIG_SERIAL_ISA=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=y
CONFIG_VIRTIO_NET=y
CONFIG_NVME_PCI=y
CONFIG_PCIE_PORT=y
