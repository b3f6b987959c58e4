module sluicegate.dev/sluicegate

go 1.19
