def availability(request):
    raise NotImplementedError
